// libpq 15 (Debian 12). Headers live in /usr/include/postgresql (pkg-config libpq supplies the -I).
#include <libpq-fe.h>
#include <poll.h>
