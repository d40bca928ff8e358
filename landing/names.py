"""Names kept as data (member states, commodities, statuses, indicators, units, the notes of
the plan's figures) marked for translation, so that pages can show them in the visitor's
language with gettext(name).

A name added later in the admin shows as written until the catalogue translates it.
"""

from django.utils.translation import gettext_noop

MEMBER_STATES = (
    gettext_noop("Brunei Darussalam"),
    gettext_noop("Cambodia"),
    gettext_noop("Indonesia"),
    gettext_noop("Lao PDR"),
    gettext_noop("Malaysia"),
    gettext_noop("Myanmar"),
    gettext_noop("Philippines"),
    gettext_noop("Singapore"),
    gettext_noop("Thailand"),
    gettext_noop("Viet Nam"),
    gettext_noop("Timor-Leste"),
)

COMMODITIES = (
    gettext_noop("Gold"),
    gettext_noop("Silver"),
    gettext_noop("Platinum"),
    gettext_noop("Palladium"),
    gettext_noop("Platinum-group elements"),
    gettext_noop("Copper"),
    gettext_noop("Lead"),
    gettext_noop("Zinc"),
    gettext_noop("Tin"),
    gettext_noop("Nickel"),
    gettext_noop("Cobalt"),
    gettext_noop("Lithium"),
    gettext_noop("Graphite"),
    gettext_noop("Manganese"),
    gettext_noop("Molybdenum"),
    gettext_noop("Tungsten"),
    gettext_noop("Antimony"),
    gettext_noop("Bismuth"),
    gettext_noop("Chromium"),
    gettext_noop("Vanadium"),
    gettext_noop("Titanium"),
    gettext_noop("Tantalum"),
    gettext_noop("Niobium"),
    gettext_noop("Gallium"),
    gettext_noop("Germanium"),
    gettext_noop("Indium"),
    gettext_noop("Tellurium"),
    gettext_noop("Beryllium"),
    gettext_noop("Fluorite"),
    gettext_noop("Baryte"),
    gettext_noop("Rare earth elements"),
    gettext_noop("Light rare earth elements"),
    gettext_noop("Heavy rare earth elements"),
    gettext_noop("Scandium"),
    gettext_noop("Yttrium"),
    gettext_noop("Neodymium"),
    gettext_noop("Dysprosium"),
    gettext_noop("Monazite"),
    gettext_noop("Zircon"),
    gettext_noop("Hafnium"),
    gettext_noop("Rhenium"),
    gettext_noop("Iron ore"),
    gettext_noop("Aluminium"),
    gettext_noop("Bauxite"),
    gettext_noop("Mercury"),
    gettext_noop("Arsenic"),
    gettext_noop("Phosphate rock"),
    gettext_noop("Potash"),
    gettext_noop("Salt"),
    gettext_noop("Gypsum"),
    gettext_noop("Kaolin"),
    gettext_noop("Bentonite"),
    gettext_noop("Feldspar"),
    gettext_noop("Silica sand"),
    gettext_noop("Limestone"),
    gettext_noop("Dimension stone"),
    gettext_noop("Sand and gravel"),
    gettext_noop("Clay"),
    gettext_noop("Diamond"),
    gettext_noop("Gemstones"),
    gettext_noop("Coal"),
    gettext_noop("Uranium"),
    gettext_noop("Thorium"),
    gettext_noop("Oil shale"),
    gettext_noop("Sulphur"),
    gettext_noop("Magnesite"),
)

OCCURRENCE_STATUSES = (
    gettext_noop("Occurrence"),
    gettext_noop("Prospect"),
    gettext_noop("Deposit"),
    gettext_noop("Operating mine"),
    gettext_noop("Closed mine"),
    gettext_noop("Past producer"),
)

INDICATORS = (
    gettext_noop("Minerals exports"),
    gettext_noop("Minerals imports"),
    gettext_noop("Minerals share of total exports"),
    gettext_noop("Minerals share of total imports"),
    gettext_noop("Oil and gas share of goods exports"),
    gettext_noop("Mine production"),
    gettext_noop("Share of world mine production"),
    gettext_noop("World rank in mine production"),
    gettext_noop("Share of world reserves"),
    gettext_noop("World rank in reserves"),
    gettext_noop("Minerals sector share of GDP"),
    gettext_noop("Jobs in mining and quarrying"),
    gettext_noop("Net foreign direct investment in mining"),
    gettext_noop("Overall achievement of AMCAP-III Phase 1"),
    gettext_noop("Action lines of AMCAP-III Phase 1"),
    gettext_noop("Phase 1 action lines completed"),
    gettext_noop("Phase 1 action lines carried over to Phase 2"),
    gettext_noop("Achievement of the ASEAN+3 minerals work plan 2016-2020"),
    gettext_noop("Capacity-building activities in Phase 1"),
    gettext_noop("ASEAN Minerals Awards: awardees"),
    gettext_noop("ASEAN Minerals Awards: companies taking part"),
)

UNITS = (
    gettext_noop("kt"),
    gettext_noop("t"),
    gettext_noop("persons"),
    gettext_noop("action lines"),
    gettext_noop("activities"),
    gettext_noop("awardees"),
    gettext_noop("companies"),
    # landing.infographics.UNIT_NAMES
    gettext_noop("thousand tonnes (kt)"),
    gettext_noop("tonnes (t)"),
)

# The notes of fixtures/landing/amcap_iii_phase2_figures.csv.
NOTES = (
    gettext_noop("33 action lines of the plan and 16 annual priorities."),
    gettext_noop("5 of the 8 action lines completed by December 2020."),
    gettext_noop("Across the programme areas over 2016-2020."),
    gettext_noop("Average per year over 2016-2020."),
    gettext_noop("Coal included."),
    gettext_noop("Completed by the end of 2020."),
    gettext_noop("Direct jobs in mining and quarrying."),
    gettext_noop("Exports of mineral products are mostly petroleum and non-metallic minerals."),
    gettext_noop(
        "Final review of Phase 1 (2016-2020) reported to the 20th ASOMM in December 2020."
    ),
    gettext_noop(
        "Foreign direct investment in ASEAN mining had been falling since 2014; it partly recovered in 2019."
    ),
    gettext_noop("Mineral products and metals."),
    gettext_noop(
        "Mineral products, quoted from OECD (2019). The plan states no year for this figure; 2021 is the year the plan was adopted."
    ),
    gettext_noop(
        "Mineral products, quoted from OECD (2019); metals add a further 3 percent of exports. The plan states no year for this figure; 2021 is the year the plan was adopted."
    ),
    gettext_noop("Minerals and metals for manufacturing and agriculture."),
    gettext_noop("Minerals and metals: more than a quarter of imports."),
    gettext_noop("Minerals and metals: more than half of exports."),
    gettext_noop("Minerals and processed metals."),
    gettext_noop(
        "Mining and quarrying (an estimate). The plan states no year for this figure; 2021 is the year the plan was adopted."
    ),
    gettext_noop("Mining and quarrying."),
    gettext_noop("The 1st (2017) and 2nd (2019) awards together."),
    gettext_noop("The plan states no year for this figure; 2021 is the year the plan was adopted."),
    gettext_noop(
        "Total employment in mining and quarrying; the plan gives it together with the 2016 GDP share."
    ),
    gettext_noop(
        "World Integrated Trade Solution (WITS) data quoted in the plan's supporting study, which finds trade small for Viet Nam's output, perhaps because much of it is used at home."
    ),
    gettext_noop(
        "World Integrated Trade Solution (WITS) data quoted in the plan's supporting study."
    ),
)
