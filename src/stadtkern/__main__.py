from stadtkern.cli import main

main()
