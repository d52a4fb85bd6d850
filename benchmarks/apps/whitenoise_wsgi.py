"""WhiteNoise wrapping the inner WSGI app (root prepared by ``whitenoise.compress``)."""

from common import PREFIX, ROOT, bare_wsgi
from whitenoise import WhiteNoise

app = WhiteNoise(bare_wsgi, root=ROOT, prefix=PREFIX)
