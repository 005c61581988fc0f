"""Sentences the actions build around directory facts, in French, Dutch and English.

Only wording lives here; every name, number, distance and hour comes from
the directory at run time.
"""

from __future__ import annotations

from typing import Optional

LANGS = ("fr", "nl", "en")

T = {
    "near": {"fr": "Près de {place} :", "nl": "Dicht bij {place}:", "en": "Near {place}:"},
    "pharmacies": {"fr": "Pharmacies les plus proches :", "nl": "Dichtstbijzijnde apotheken:",
                   "en": "Nearest pharmacies:"},
    "services": {"fr": "Services d'aide les plus proches :", "nl": "Dichtstbijzijnde hulpdiensten:",
                 "en": "Nearest support services:"},
    "no_pharmacy_phone": {
        "fr": "La liste officielle des pharmacies ne donne ni téléphone ni horaires. Le pharmacien peut vous écouter et vous orienter.",
        "nl": "De officiële lijst van apotheken vermeldt geen telefoon of openingsuren. De apotheker kan naar u luisteren en u doorverwijzen.",
        "en": "The official pharmacy list gives no phone numbers or hours. The pharmacist can listen and refer you.",
    },
    "eva": {"fr": "Accueil des victimes de la police de votre zone ({zone}) : {name}, tél. {phone}{hours}.",
            "nl": "Slachtofferonthaal van de politie in uw zone ({zone}): {name}, tel. {phone}{hours}.",
            "en": "Police victim reception of your zone ({zone}): {name}, phone {phone}{hours}."},
    "eva_no_phone": {"fr": "Cellule EVA de votre zone ({zone}) : {name} ; son numéro n'est pas confirmé. {any_station}.",
                     "nl": "EVA-cel van uw zone ({zone}): {name}; het nummer is niet bevestigd. {any_station}.",
                     "en": "EVA cell of your zone ({zone}): {name}; its number is not confirmed. {any_station}."},
    "cpvs": {"fr": "Après une violence sexuelle : {name}, tél. {phone}.", "nl": "Na seksueel geweld: {name}, tel. {phone}.",
             "en": "After sexual violence: {name}, phone {phone}."},
    "more": {"fr": "Écrivez « plus » pour d'autres adresses.", "nl": "Schrijf \"meer\" voor andere adressen.",
             "en": "Write \"more\" for other places."},
    "no_more": {"fr": "Je n'ai pas d'autres adresses proches.", "nl": "Ik heb geen andere adressen in de buurt.",
                "en": "I have no other places nearby."},
    "nothing": {"fr": "Je n'ai rien trouvé près de {place}.", "nl": "Ik vond niets dicht bij {place}.",
                "en": "I found nothing near {place}."},
    "open": {"fr": "ouvert maintenant", "nl": "nu open", "en": "open now"},
    "closed": {"fr": "fermé maintenant", "nl": "nu gesloten", "en": "closed now"},
    "phone": {"fr": "tél.", "nl": "tel.", "en": "phone"},
    "unconfirmed": {"fr": "non confirmé", "nl": "niet bevestigd", "en": "unconfirmed"},
    "partly": {"fr": "en partie confirmé", "nl": "gedeeltelijk bevestigd", "en": "partly confirmed"},
    "checked": {"fr": "vérifié le {date}", "nl": "gecontroleerd op {date}", "en": "checked {date}"},
    "lookup_none": {"fr": "Je n'ai trouvé aucun service pour « {text} ».", "nl": "Ik vond geen dienst voor \"{text}\".",
                    "en": "I found no service for \"{text}\"."},
    "found": {"fr": "Voici ce que j'ai trouvé :", "nl": "Dit vond ik:", "en": "Here is what I found:"},
    "address_hidden": {"fr": "adresse confidentielle : appelez la ligne d'accueil", "nl": "geheim adres: bel de aanmeldlijn",
                       "en": "confidential address: call the intake line"},
}


def t(key: str, lang: Optional[str], **values) -> str:
    lang = lang if lang in LANGS else "en"
    return T[key][lang].format(**values)


def distance(metres: int, lang: Optional[str]) -> str:
    if metres < 1000:
        return f"{metres} m"
    km = f"{metres / 1000:.1f}"
    return f"{km.replace('.', ',') if lang in ('fr', 'nl') else km} km"


def say(dispatcher, text: str, lang: Optional[str], payload: Optional[dict] = None) -> None:
    """Send a text, marked with its language for the web server (see bot/render.py)."""
    custom = dict(payload or {})
    if lang in LANGS:
        custom["relais"] = {"lang": lang}
    dispatcher.utter_message(text=text, json_message=custom or None)
