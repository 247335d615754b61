"""The 42 MAPPA areas of England and Wales, named by slug (part of the public contract).

London (Metropolitan and City of London police) is one area, so 43 forces make 42 areas.
The migration seeds this list; integrators address areas by slug.
"""
from __future__ import annotations

import re

AREA_NAMES: tuple[str, ...] = (
    "Avon and Somerset", "Bedfordshire", "Cambridgeshire", "Cheshire", "Cleveland", "Cumbria",
    "Derbyshire", "Devon and Cornwall", "Dorset", "Durham", "Dyfed-Powys", "Essex",
    "Gloucestershire", "Greater Manchester", "Gwent", "Hampshire", "Hertfordshire", "Humberside",
    "Kent", "Lancashire", "Leicestershire", "Lincolnshire", "London", "Merseyside", "Norfolk",
    "North Wales", "North Yorkshire", "Northamptonshire", "Northumbria", "Nottinghamshire",
    "South Wales", "South Yorkshire", "Staffordshire", "Suffolk", "Surrey", "Sussex",
    "Thames Valley", "Warwickshire", "West Mercia", "West Midlands", "West Yorkshire", "Wiltshire",
)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


AREAS: dict[str, str] = {slugify(n): n for n in AREA_NAMES}
AREA_SLUGS: tuple[str, ...] = tuple(AREAS)

assert len(AREAS) == 42, "MAPPA has 42 areas"


def is_area(slug: str) -> bool:
    return slug in AREAS
