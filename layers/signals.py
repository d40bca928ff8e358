"""Signals other apps listen to, so layers need not know them."""

from django.dispatch import Signal

# Sent once a publish or a restore has committed, with `dataset_id`: the catalogue builds the
# dataset's feature blocks (catalogue.blocks).
dataset_published = Signal()
