from attnflow.cli import main

raise SystemExit(main())
