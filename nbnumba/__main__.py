from nbnumba.cli import main

main()
