"""Reference devices that talk to Stadtkern: firmware written for hardware makers.

Nothing below this package imports the platform; it runs standalone with the standard library,
`cryptography` and `paho-mqtt`.
"""
