/* migrate.h -- MIGRATE, FLASH.MIGRATE and FLASH.MIGRATE.PROBE (migrate.c): transfers of
 * keys to another server that never block the event loop; the client waits instead. */
#ifndef MIGRATE_H
#define MIGRATE_H

/* INFO stats: migrate_cached_sockets, the connections to targets kept for reuse. */
unsigned long migrateCachedSocketCount(void);

#endif
