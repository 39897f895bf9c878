"""Writes hiveo/data/common_passwords.txt: passwords of 12 characters or more that people pick.

No breach corpus can be downloaded where this project is built, so the list
is composed from the patterns that every published analysis of leaked
passwords finds at the top (NCSC's and SplashData's yearly lists, French
surveys): a common word or first name, a keyboard walk or a run of digits,
followed by a year, a run of digits or a "!". Only candidates of 12
characters or more are kept, since shorter ones are refused by length anyway.
It is a blocklist of the obvious, not a substitute for a breach corpus such
as Have I Been Pwned's: a deployment can replace the file with a bigger one
(one password per line, compared case-insensitively).

Run: python scripts/build_common_passwords.py
"""

from __future__ import annotations

from pathlib import Path

WORDS = [
    "motdepasse", "password", "passw0rd", "azerty", "azertyuiop", "qwerty", "qwertyuiop",
    "wxcvbn", "soleil", "bonjour", "bonsoir", "jetaime", "iloveyou", "doudou", "chouchou",
    "loulou", "nounours", "marseille", "paris", "lyon", "toulouse", "bordeaux", "lille",
    "nantes", "france", "football", "olympique", "psg", "allezlom", "admin", "administrateur",
    "welcome", "bienvenue", "princesse", "princess", "sunshine", "dragon", "monkey", "master",
    "shadow", "superman", "batman", "pokemon", "chocolat", "camille", "nicolas", "thomas",
    "julien", "antoine", "alexandre", "maxime", "kevin", "marie", "sophie", "laura", "julie",
    "sarah", "manon", "emma", "chloe", "lucas", "hugo", "louis", "jordan", "michael",
    "jennifer", "jessica", "charlie", "daniel", "baseball", "letmein", "trustno1", "changeme",
    "secret", "secure", "liberte", "vacances", "amour", "famille", "bisous", "coucou", "hiveo",
    "compliance", "fournisseur", "entreprise", "societe", "urssaf", "kbis",
]

KEYBOARD = [
    "azertyuiop", "qwertyuiop", "azertyuiopqsdf", "qsdfghjklm", "wxcvbnazerty",
    "1qaz2wsx3edc", "qazwsxedcrfv", "zaq12wsxcde3", "1q2w3e4r5t6y", "a1z2e3r4t5y6",
    "aqwzsxedcrfv", "poiuytreza", "mlkjhgfdsq",
]

SUFFIXES = ["", "1", "12", "123", "1234", "12345", "123456", "!", "!!", "01", "00", "007",
            "69", "77", "13", "2000", *[str(year) for year in range(1970, 2027)],
            "123!", "1!", "2024!", "2025!", "2026!"]


def candidates() -> set[str]:
    found = {str(10 ** n - 1)[:n] for n in range(12, 21)}  # 999999999999...
    digits = "12345678901234567890"
    found |= {digits[:n] for n in range(12, 21)}
    found |= {"0" * n for n in range(12, 17)} | {"1" * n for n in range(12, 17)}
    found |= {digits[:n][::-1] for n in range(12, 21)}
    for word in WORDS + KEYBOARD:
        for base in {word, word.capitalize(), word + word}:
            for suffix in SUFFIXES:
                found.add(base + suffix)
                found.add(suffix + base)
    return {item.lower() for item in found if len(item) >= 12}


def main() -> None:
    target = Path(__file__).resolve().parent.parent / "hiveo" / "data" / "common_passwords.txt"
    target.write_text("\n".join(sorted(candidates())) + "\n")
    print(f"{target}: {len(candidates())} passwords")


if __name__ == "__main__":
    main()
