import RelaxCLI

RelaxCommand.main()
