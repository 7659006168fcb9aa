/* lzf_dec.h -- a fast, bounds-checked LZF decompressor (the format of LZF-compressed RDB
 * strings and quicklist nodes). Compression stays with Debian's liblzf (lzf_compress);
 * this is the decoder of the load path, where decompression is a large part of the time.
 *
 * The format: a control byte c. c < 32: a literal run of c + 1 bytes follows. Otherwise a
 * back-reference: length c >> 5 (7 means "7 plus the next byte"), plus 2; distance
 * ((c & 31) << 8) + the next byte + 1, counted back from the current output position.
 */
#ifndef LZF_DEC_H
#define LZF_DEC_H

#include <stddef.h>

/* Decompresses in_len bytes of in into out, which has room for out_len bytes. Returns
 * the number of bytes produced, or 0 when the input is corrupt (a run or reference that
 * leaves the input, the output, or points before the start of the output) or does not
 * fit in out_len bytes. Never reads or writes outside the two buffers. */
size_t lzfDecompress(const void *in, size_t in_len, void *out, size_t out_len);

#endif
