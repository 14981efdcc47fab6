from register_batch.cli import main

main()
