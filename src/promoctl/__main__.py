from promoctl.launch import main

raise SystemExit(main())
