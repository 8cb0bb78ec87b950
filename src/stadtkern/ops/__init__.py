"""Operations: logging, health and readiness, metrics."""
