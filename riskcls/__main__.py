from riskcls.cli import main

main()
