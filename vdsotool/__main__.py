from vdsotool.cli import main

main()
