# Convenience wrappers; dev.py does the work so that a machine without make works too.
.PHONY: run test
run:
	python3 dev.py run
test:
	python3 dev.py test
