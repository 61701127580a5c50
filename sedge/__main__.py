from sedge.cli import main

main()
