import sys

from ricecoder_otel.cli import main

sys.exit(main())
