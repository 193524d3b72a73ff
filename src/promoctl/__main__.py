from promoctl.cli import main

raise SystemExit(main())
