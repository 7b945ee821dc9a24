from nbnumba.command.launcher import main

main()
