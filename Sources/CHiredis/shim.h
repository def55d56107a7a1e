// hiredis 0.14.1 (Debian 12). Only the 0.14/1.x common subset is used: redisConnectWithTimeout,
// redisConnectUnixWithTimeout, redisSetTimeout, redisCommandArgv, redisAppendCommandArgv, redisGetReply,
// redisFormatCommandArgv, redisFreeCommand, redisAppendFormattedCommand.
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/socket.h>
#include <errno.h>
