"""Phishing: analyse the emails staff report; a verdict with reasons and the indicators.

Layers, as everywhere in Tocsin: :mod:`.parse` reads a message (bounded, never executing
anything) into a :class:`~tocsin.phishing.message.ParsedMessage`; each module of
:mod:`.checks` looks at one family of signs and returns :class:`~tocsin.phishing.model.Reason`
values; :mod:`.verdict` turns the reasons into a score and a verdict; :mod:`.analyze` runs
the lot for one message. No network: URLs are never fetched during analysis.
"""
