from mbrlhpo.cli import main

raise SystemExit(main())
