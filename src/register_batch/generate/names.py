"""Plausible UK names and the email addresses SRS exports derive from them.

The lists mix common British names with the Irish, Welsh, Scottish, South Asian, African, Caribbean and
European names an English ITT cohort carries, including accents (Zoë, Siân, Núñez), apostrophes (O'Brien)
and particles (van der Berg), because those are what break naive CSV and XML handling. Surnames are kept
free of repeats: the generator relies on each index naming a different surname (see `build.PersonAllocator`).
"""

from __future__ import annotations

import random
import re
import unicodedata
from functools import lru_cache


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE = _words(
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Florence Willow Emily Ella Poppy "
    "Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper Matilda Ruby Emilia Maya Millie "
    "Isabelle Eva Luna Jessica Hannah Chloé Zoë Siân Niamh Aoife Saoirse Ffion Catrin Eilidh Mhairi Renée "
    "Anaïs Léa Inés Małgorzata Agnieszka Priya Aisha Fatima Amira Zainab Maryam Ayesha Noor Simran Harpreet "
    "Chiamaka Adaeze Ngozi Abena Precious Keisha Shanice Tia Laura Sarah Rebecca Rachel Katherine Elizabeth "
    "Victoria Helen Claire Joanne Nicola Gemma Kirsty Louise Hayley Natalie Amy Charlotte Jade Megan Bethan "
    "Lauren Holly Abigail Georgia Eleanor Imogen Harriet Lucy Anna Maria Mary-Jane Anne-Marie Rose Yasmin "
    "Mei Xin Yi Ana Beatriz Ioana Elena Kateryna Oksana"
)
MALE = _words(
    "Oliver George Arthur Noah Muhammad Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie Theo "
    "Alfie Jacob Thomas Finley Arlo William Lucas Roman Tommy Isaac Teddy Alexander Luca Edward James Joshua "
    "Albie Elijah Max Mohammed Reuben Mason Sebastian Rory Jude Louie Benjamin Ethan Adam Hugo Joseph Daniel "
    "Samuel Ryan Liam Connor Callum Jamie Dylan Owen Rhys Gethin Dafydd Iwan Seán Ciarán Oisín Pádraig Eoin "
    "Cathal Fraser Euan Angus Hamish Ruaridh José François Björn Zoltán Piotr Krzysztof Tomasz Mateusz "
    "Andrei Bogdan Raj Arjun Rohan Vikram Imran Bilal Hamza Yusuf Ibrahim Omar Tariq Kwame Kofi Chinedu "
    "Emeka Oluwaseun Tunde Jermaine Marcus Andre Darnell Wei Jun Hao Michael David Paul Mark Richard Stephen "
    "Andrew Christopher Matthew Simon Peter Jonathan Robert Gareth Craig Darren Lee Neil Graham Ian Jean-Luc"
)
NEUTRAL = _words("Alex Sam Charlie Jordan Jamie Robin Morgan Riley Avery Rowan Sasha Kai Taylor Quinn Ashley Eden")

SURNAMES = tuple(
    dict.fromkeys(
        (
            "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright "
            "Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill "
            "Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker "
            "Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy "
            "Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman "
            "Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight "
            "Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher "
            "Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks "
            "West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan "
            "Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe "
            "Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton "
            "Oliver Reed Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop "
            "Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald "
            "Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill "
            "Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan Hutchinson Rowe "
            "Burke May Pritchard Gilbert Willis Higgins Read Miles Stevenson Stephenson Hammond Arnold Buckley "
            "Walters Hewitt Barber Nelson Slater Austin Sullivan Whitehead Mann Frost Lambert Stephens Blake Akhtar "
            "Lynch Goodwin Barton Woodward Thomson Cunningham Quinn Barnett Baxter Bibi Clayton Nash Greenwood "
            "Jennings Holt Kemp Poole Gallagher Bond Stokes Tucker Davidson Fowler Heath Norman Middleton Lawson "
            "Banks French Stanley Jarvis Gibbs Ferguson Hayward Carroll Douglas Hussein D'Souza MacLeod MacDonald "
            "Fitzgerald Ó Briain Ní Bhriain van der Berg de Souza Núñez García Fernández Müller Schäfer Kowalski "
            "Nowak Wiśniewski Lewandowska Popescu Ionescu Okafor Adeyemi Mensah Osei Nwosu Okonkwo Abubakar Chen "
            "Wang Li Zhang Nguyen Tran Kim Park Sato Rahman Chowdhury Iqbal Qureshi Malik Mistry Sharma Gupta Joshi "
            "Mehta Kapoor Desai Pillai Nair Fernandes Rodrigues Santos Silva Costa Rossi Russo Bianchi Papadopoulos "
            "Yılmaz Demir Kaya Öztürk Brontë Llewellyn Pryce Vaughan Rhys ap Gwyn Cadwaladr"
        )
        .replace("Ó Briain", "Ó_Briain")
        .replace("Ní Bhriain", "Ní_Bhriain")
        .replace("van der Berg", "van_der_Berg")
        .replace("de Souza", "de_Souza")
        .replace("ap Gwyn", "ap_Gwyn")
        .split(" ")
    )
)
SURNAMES = tuple(name.replace("_", " ") for name in SURNAMES)

# Reserved for examples (RFC 2606, RFC 6761): no mailbox behind them. Not example.co.uk or example.ac.uk, which anyone
# may register (review109 F4). In lower case, which Register's email check (register-api.md §3.1) takes, whatever
# it makes of a top-level domain in capitals.
EMAIL_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "student.university.example",
)
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d", "ı": "i"})
_NOT_EMAIL = re.compile(r"[^a-z0-9]+")


def ascii_fold(text: str) -> str:
    """Drop accents (Zoë -> Zoe, Wiśniewski -> Wisniewski): what SRS systems do when making addresses."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=4096)
def email_part(name: str) -> str:
    """A name as it appears in an address: folded, lower case, letters and digits only."""
    return _NOT_EMAIL.sub("", ascii_fold(name).lower())


def email_for(rng: random.Random, first_names: str, last_name: str, birth_year: int) -> str:
    """An address derived from the trainee's names, in one of the shapes people really use."""
    first = email_part(first_names.split()[0]) or "trainee"
    last = email_part(last_name) or "teacher"
    domain = rng.choice(EMAIL_DOMAINS)
    shape = rng.random()
    if shape < 0.45:
        local = f"{first}.{last}"
    elif shape < 0.65:
        local = f"{first[0]}{last}{rng.randint(1, 99)}"
    elif shape < 0.85:
        local = f"{first}{last}{birth_year % 100:02d}"
    else:
        local = f"{first}_{last}"
    return f"{local}@{domain}"


def first_names_for(rng: random.Random, sex: str) -> str:
    """Forenames for a sex code: sometimes two, as SRS `FNAMES` holds every forename."""
    pool = FEMALE if sex == "10" else MALE if sex == "11" else (*NEUTRAL, *FEMALE[:20], *MALE[:20])
    name = rng.choice(pool)
    if rng.random() < 0.18:
        second = rng.choice(pool)
        if second != name:
            name = f"{name} {second}"
    return name
