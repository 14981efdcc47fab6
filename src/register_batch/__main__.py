from register_batch._entry import main

main()
