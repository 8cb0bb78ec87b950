"""The reference warning lantern: wire protocol, firmware state machine and MQTT runtime."""
