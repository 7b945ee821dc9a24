from nbnumba.command.cli import main

main()
