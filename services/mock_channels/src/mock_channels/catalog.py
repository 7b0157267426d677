"""What the simulated shops sell and who buys it: Indian customers, jewellery, prices in paise."""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST_NAMES = (
    "Aarav", "Aditi", "Ananya", "Arjun", "Diya", "Ishaan", "Kavya", "Krishna", "Meera", "Neha",
    "Nikhil", "Pooja", "Priya", "Rahul", "Riya", "Rohan", "Saanvi", "Sanjay", "Shreya", "Sneha",
    "Tanvi", "Varun", "Vikram", "Vivaan", "Zara", "Lakshmi", "Harini", "Farhan", "Gurpreet",
    "Deepika",
)  # fmt: skip
LAST_NAMES = (
    "Sharma", "Verma", "Iyer", "Nair", "Reddy", "Patel", "Shah", "Mehta", "Gupta", "Singh",
    "Kapoor", "Menon", "Rao", "Das", "Chatterjee", "Banerjee", "Joshi", "Kulkarni", "Pillai",
    "Khan", "Agarwal", "Bhatt", "Desai", "Malhotra", "Sethi",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "yahoo.co.in", "outlook.com", "rediffmail.com", "hotmail.com")
CITIES = (
    ("Mumbai", "Maharashtra", "400050"),
    ("Bengaluru", "Karnataka", "560102"),
    ("New Delhi", "Delhi", "110017"),
    ("Hyderabad", "Telangana", "500034"),
    ("Chennai", "Tamil Nadu", "600040"),
    ("Pune", "Maharashtra", "411001"),
    ("Kolkata", "West Bengal", "700019"),
    ("Jaipur", "Rajasthan", "302001"),
    ("Ahmedabad", "Gujarat", "380009"),
    ("Kochi", "Kerala", "682016"),
)


STREETS = (
    "MG Road", "Linking Road", "Residency Road", "Park Street", "Anna Salai", "FC Road",
    "Banjara Hills Road No. 12", "Lajpat Nagar II", "CG Road", "Marine Drive",
)  # fmt: skip


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    price_paise: int


PRODUCTS = (
    Product("RNG-SLV-925-014", "Sterling Silver Solitaire Ring", 1_899_00),
    Product("RNG-GLD-22K-031", "22K Gold Plated Floral Ring", 2_450_00),
    Product("RNG-OXD-007", "Oxidised Silver Statement Ring", 699_00),
    Product("EAR-JHM-GLD-112", "Gold Plated Kundan Jhumkas", 1_299_00),
    Product("EAR-STD-DIA-020", "American Diamond Stud Earrings", 999_00),
    Product("EAR-CHB-PRL-045", "Pearl Chandbali Earrings", 1_650_00),
    Product("EAR-HOP-SLV-008", "Sterling Silver Hoop Earrings", 1_199_00),
    Product("NCK-TMP-GLD-201", "Temple Jewellery Necklace Set", 4_999_00),
    Product("NCK-MNG-BLK-017", "Black Bead Mangalsutra", 2_199_00),
    Product("NCK-CHK-KND-066", "Kundan Choker Necklace", 3_499_00),
    Product("NCK-PND-SLV-093", "Silver Heart Pendant with Chain", 1_499_00),
    Product("ANK-SLV-PYL-003", "Silver Payal Anklets (Pair)", 1_350_00),
    Product("ANK-GHG-OXD-011", "Oxidised Ghungroo Anklets", 799_00),
    Product("BNG-GLD-SET-024", "Gold Plated Bangles (Set of 4)", 1_799_00),
    Product("BRC-RSG-CZ-052", "Rose Gold CZ Bracelet", 1_249_00),
    Product("NTH-GLD-PRS-005", "Gold Plated Nath Nose Ring", 549_00),
    Product("MTK-KND-PRL-019", "Kundan Pearl Maang Tikka", 899_00),
    Product("TOE-SLV-RNG-002", "Silver Toe Rings (Pair)", 399_00),
)


@dataclass(frozen=True)
class Buyer:
    first_name: str
    last_name: str
    phone: str  # ten-digit Indian mobile number, no country code
    email: str | None
    city: str
    state: str
    postal_code: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def street(self) -> str:
        """The first address line, derived from the phone so the seeded history stays put."""
        number = int(self.phone[-3:]) % 240 + 1
        return f"{number}, {STREETS[int(self.phone[-4]) % len(STREETS)]}"


@dataclass(frozen=True)
class LineItem:
    sku: str
    title: str
    qty: int
    unit_price_paise: int

    @property
    def total_paise(self) -> int:
        return self.qty * self.unit_price_paise


def random_buyer(rng: random.Random) -> Buyer:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    phone = f"{rng.choice('6789')}{rng.randrange(10**9):09d}"
    email = None
    if rng.random() < 0.85:
        email = f"{first}.{last}{rng.randrange(100)}@{rng.choice(EMAIL_DOMAINS)}".lower()
    city, state, postal_code = rng.choice(CITIES)
    return Buyer(first, last, phone, email, city, state, postal_code)


def random_items(rng: random.Random) -> list[LineItem]:
    products = rng.sample(PRODUCTS, k=rng.choice((1, 1, 1, 2, 2, 3)))
    return [LineItem(p.sku, p.title, rng.choice((1, 1, 1, 2)), p.price_paise) for p in products]


def rupees(paise: int) -> str:
    """Money as the string the REST platforms use: ``"1899.00"``."""
    return f"{paise // 100}.{paise % 100:02d}"
