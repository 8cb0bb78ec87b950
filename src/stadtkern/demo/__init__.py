"""The demo city: Kaiserslautern's device fleet, simulated against a running Stadtkern.

The package is a client of the platform, like the reference lantern firmware: it speaks
HTTP (SensorThings API, lantern register) and MQTT and imports nothing from the platform's
service layer, so that `stadtkern simulate` runs against any installation.
"""
