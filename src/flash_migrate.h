/* flash_migrate.h -- loading RDB files written by Valkey with the valkey-flash module.
 *
 * valkey-flash stores FLASH.* keys as module types (flashstr1, flashhsh1, flashlst1,
 * flashzst1). flashMigrateRegister() registers RDB loaders for them with rdb.c, so
 * such a file loads into native strings, hashes, lists and sorted sets, TTLs kept: an
 * operator moves to this server with one restart. See flash_migrate.c for the format.
 */
#ifndef FLASH_MIGRATE_H
#define FLASH_MIGRATE_H

/* Called at start-up (server.c, weak) before the configuration is read. */
void flashMigrateRegister(void);

#endif
