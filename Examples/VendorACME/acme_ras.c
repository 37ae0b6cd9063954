/*
 * libacme_ras: an example of a vendor's private RAS library. It knows nothing of inject: no
 * inject headers, its own names and conventions. inject drives it through acme.inject.json and
 * libffi.
 *
 * acme_ras_poison() "poisons" a physical address on a socket. This example does not touch the
 * hardware: it appends what it was asked to the file named by ACME_RAS_LOG, so that a test can see
 * the call arrive with the right arguments.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACME_SOCKETS 2

/* Returns 0 on success, a negative errno-style code on failure with a reason in `why`.
 * `ticket` receives the firmware's ticket number for the request. */
int acme_ras_poison(uint32_t socket, uint64_t phys_addr, const char *kind, uint32_t *ticket, char *why, size_t why_len)
{
    if (socket >= ACME_SOCKETS) {
        snprintf(why, why_len, "socket %u does not exist (this board has sockets 0 to %d)", socket, ACME_SOCKETS - 1);
        return -19;
    }
    if (phys_addr & 0xfff) {
        snprintf(why, why_len, "address 0x%llx is not page aligned", (unsigned long long)phys_addr);
        return -22;
    }
    if (strcmp(kind, "ce") != 0 && strcmp(kind, "uce") != 0) {
        snprintf(why, why_len, "unknown kind '%s'", kind);
        return -22;
    }
    *ticket = (uint32_t)(phys_addr >> 12) ^ 0xace;
    const char *log = getenv("ACME_RAS_LOG");
    if (log) {
        FILE *file = fopen(log, "a");
        if (!file) {
            snprintf(why, why_len, "cannot open %s", log);
            return -5;
        }
        fprintf(file, "poison socket=%u addr=0x%llx kind=%s ticket=%u\n", socket, (unsigned long long)phys_addr, kind, *ticket);
        fclose(file);
    }
    return 0;
}
