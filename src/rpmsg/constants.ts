/** Addresses and sizes of the rpmsg bus (PROTOCOL.md §2–3; Linux include/linux/rpmsg.h). */

/** "Any address": never valid on the wire; asks for dynamic allocation when creating. */
export const RPMSG_ADDR_ANY = 0xffffffff;
/** The name service's address. */
export const RPMSG_NS_ADDR = 53;
/** Addresses below this are reserved; dynamic allocation starts here. */
export const RPMSG_RESERVED_ADDRESSES = 1024;
/** Longest service name including the terminating NUL. */
export const RPMSG_NAME_SIZE = 32;
/** The seed document's default wait for a tx buffer. */
export const RPMSG_DEFAULT_SEND_TIMEOUT_MS = 15_000;
