"""Who and what the demo's Kalmar weekend is about."""

from __future__ import annotations

from dataclasses import dataclass

ORGANISATIONS = ["IFK Kalmar", "Trygga vuxna Kalmar"]  # a club and a private initiative
AREAS = [
    ("Kalmar C & Baronen", "Kalmar C, stora entrén mot Baronen"),
    ("Kvarnholmen", "Stortorget, vid domkyrkans trappa"),
]
PUBLIC_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Walker:
    name: str
    org: int  # index into ORGANISATIONS
    trained: bool = False
    telegram_id: int | None = None
    phone: str | None = None


WALKERS = [
    Walker("Anna Lindqvist", 0, True, telegram_id=71001),
    Walker("Erik Johansson", 0, telegram_id=71002),
    Walker("Mohammed Ali", 0, True, telegram_id=71003),
    Walker("Karin Berg", 0, phone="+46701234501"),
    Walker("Lena Holm", 1, True, telegram_id=71005),
    Walker("Per Svensson", 1, phone="+46701234502"),
]
COORDINATOR = Walker("Maria Kommunsson", 0, True, telegram_id=79001)
LEAD = Walker("Johan Ek (gruppledare)", 0, True, telegram_id=79002)
NEWCOMER_ID, NEWCOMER = 71009, "Sara"
# Partners: the morning picture after each night with walks, nothing else, no personal data.
POLICE = Walker("Kommunpolisen Kalmar", 0, telegram_id=79101)
GUARDS = Walker("Ordningsvakterna Kalmar City", 0, phone="+46701234599")
PARTNERS = [POLICE, GUARDS]
