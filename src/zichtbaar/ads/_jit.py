"""The linker's two hot loops, compiled with numba: text → shingle hashes, and MinHash.

Why compiled: in Python, tokenising was half of linking time (100,000 ads: 9.6 s of 18.8 s)
and MinHash with numpy another fifth (it builds a shingles × permutations array). Both are
simple loops over bytes and integers, which numba turns into machine code.

``shingle_docs`` does, per document, exactly what ``linking.normalise_tokens`` and the word
shingling do (casefold, URL and e-mail removal with the same regular expressions' semantics,
the token regex, dropping digits and spelled-out numbers, crc32 per token, k-shingle mix), so
hashes equal those of earlier versions and stored states stay valid; the Unicode properties
come from Python's own tables (``linking._unicode_tables``). ``tests/ads/test_linking.py``
compares both with the Python reference on the synthetic corpus and on random Unicode.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# bits of the per-code-point class table
TOKEN_CLASS = 3  # 0 none, 1 letter ([^\W\d_]), 2 decimal digit (\d), 3 emoji
IS_DIGIT = 4  # str.isdigit()
IS_SPACE = 8  # \s
IS_WORD = 16  # \w

_FNV = np.uint64(0x100000001B3)


def _crc_table() -> np.ndarray:
    table = np.zeros(256, np.uint32)
    for n in range(256):
        c = n
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else (c >> 1)
        table[n] = c
    return table


CRC_TABLE = _crc_table()


@njit(cache=True, inline="always")
def _crc_byte(crc, byte, table):  # type: ignore[no-untyped-def]
    return table[(crc ^ byte) & np.uint32(0xFF)] ^ (crc >> np.uint32(8))


@njit(cache=True)
def _crc_cp(crc, cp, table):  # type: ignore[no-untyped-def]
    # crc32 update with the UTF-8 encoding of one code point
    if cp < 0x80:
        return _crc_byte(crc, np.uint32(cp), table)
    if cp < 0x800:
        crc = _crc_byte(crc, np.uint32(0xC0 | (cp >> 6)), table)
        return _crc_byte(crc, np.uint32(0x80 | (cp & 0x3F)), table)
    if cp < 0x10000:
        crc = _crc_byte(crc, np.uint32(0xE0 | (cp >> 12)), table)
        crc = _crc_byte(crc, np.uint32(0x80 | ((cp >> 6) & 0x3F)), table)
        return _crc_byte(crc, np.uint32(0x80 | (cp & 0x3F)), table)
    crc = _crc_byte(crc, np.uint32(0xF0 | (cp >> 18)), table)
    crc = _crc_byte(crc, np.uint32(0x80 | ((cp >> 12) & 0x3F)), table)
    crc = _crc_byte(crc, np.uint32(0x80 | ((cp >> 6) & 0x3F)), table)
    return _crc_byte(crc, np.uint32(0x80 | (cp & 0x3F)), table)


@njit(cache=True)
def _fmix64(h):  # type: ignore[no-untyped-def]
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@njit(cache=True)
def _fold(buf, s, e, fold_idx, fold_cps, out):  # type: ignore[no-untyped-def]
    # UTF-8 (from str.encode(..., "surrogatepass")) → casefolded code points, and whether the
    # text may hold a URL ("/" or "www.") or an e-mail address ("@")
    n = 0
    i = s
    url = False
    at = False
    while i < e:
        b0 = np.uint32(buf[i])
        if b0 < 0x80:
            i += 1
            if 65 <= b0 <= 90:
                b0 += 32
            elif b0 == 47:
                url = True
            elif b0 == 64:
                at = True
            elif b0 == 46 and n >= 3 and out[n - 1] == 119 and out[n - 2] == 119 \
                    and out[n - 3] == 119:
                url = True
            out[n] = b0
            n += 1
            continue
        elif b0 < 0xE0:
            cp = ((b0 & 0x1F) << 6) | (np.uint32(buf[i + 1]) & 0x3F)
            i += 2
        elif b0 < 0xF0:
            cp = (((b0 & 0x0F) << 12) | ((np.uint32(buf[i + 1]) & 0x3F) << 6)
                  | (np.uint32(buf[i + 2]) & 0x3F))
            i += 3
        else:
            cp = (((b0 & 0x07) << 18) | ((np.uint32(buf[i + 1]) & 0x3F) << 12)
                  | ((np.uint32(buf[i + 2]) & 0x3F) << 6) | (np.uint32(buf[i + 3]) & 0x3F))
            i += 4
        f = fold_idx[cp]
        if f < 0:
            out[n] = cp
            n += 1
        else:
            for t in range(fold_cps[f, 0]):
                out[n] = fold_cps[f, t + 1]
                n += 1
    return n, url, at


@njit(cache=True)
def _drop_urls(src, n, cls, out):  # type: ignore[no-untyped-def]
    # re.sub(r"(?:https?://|www\.)\S+", " ", text, flags=IGNORECASE) on casefolded text
    m = 0
    i = 0
    while i < n:
        c = src[i]
        plen = 0
        if c == 104 and i + 7 <= n and src[i + 1] == 116 and src[i + 2] == 116 \
                and src[i + 3] == 112:  # http
            if src[i + 4] == 58 and src[i + 5] == 47 and src[i + 6] == 47:
                plen = 7
            elif (i + 8 <= n and src[i + 4] == 115 and src[i + 5] == 58 and src[i + 6] == 47
                  and src[i + 7] == 47):
                plen = 8
        elif c == 119 and i + 4 <= n and src[i + 1] == 119 and src[i + 2] == 119 \
                and src[i + 3] == 46:  # www.
            plen = 4
        if plen and i + plen < n and not (cls[src[i + plen]] & IS_SPACE):
            j = i + plen
            while j < n and not (cls[src[j]] & IS_SPACE):
                j += 1
            out[m] = 32
            m += 1
            i = j
            continue
        out[m] = c
        m += 1
        i += 1
    return m


@njit(cache=True, inline="always")
def _local(c, cls):  # type: ignore[no-untyped-def]
    return (cls[c] & IS_WORD) != 0 or c == 46 or c == 43 or c == 45  # [\w.+-]


@njit(cache=True, inline="always")
def _domain(c, cls):  # type: ignore[no-untyped-def]
    return (cls[c] & IS_WORD) != 0 or c == 45  # [\w-]


@njit(cache=True)
def _drop_emails(src, n, cls, out):  # type: ignore[no-untyped-def]
    # re.sub(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", " ", text): a match can only start where a run
    # of [\w.+-] starts (or where the previous match ended), and every start inside one run
    # meets the same "@" and domain, so one try per run is the regex's leftmost search.
    m = 0
    i = 0
    while i < n:
        if not _local(src[i], cls):
            out[m] = src[i]
            m += 1
            i += 1
            continue
        j = i
        while j < n and _local(src[j], cls):
            j += 1
        if j < n and src[j] == 64:
            q = j + 1
            while q < n and _domain(src[q], cls):
                q += 1
            if q > j + 1:
                end = q
                labels = 0
                while end + 1 < n and src[end] == 46 and _domain(src[end + 1], cls):
                    r = end + 1
                    while r < n and _domain(src[r], cls):
                        r += 1
                    end = r
                    labels += 1
                if labels:
                    out[m] = 32
                    m += 1
                    i = end
                    continue
        for t in range(i, j):
            out[m] = src[t]
            m += 1
        i = j
    return m


@njit(cache=True)
def _number_word(cps, i, j, words, by_length):  # type: ignore[no-untyped-def]
    # words sorted by length; by_length[L]:by_length[L + 1] are those of length L
    if j - i >= len(by_length) - 1:
        return False
    for w in range(by_length[j - i], by_length[j - i + 1]):
        same = True
        for t in range(j - i):
            if cps[i + t] != words[w, t]:
                same = False
                break
        if same:
            return True
    return False


@njit(cache=True, nogil=True)
def shingle_docs(buf, bounds, k, cls, fold_idx, fold_cps, words, by_length, word_crc, crc_table,
                 run_min, counts):  # type: ignore[no-untyped-def]
    """Per document ``d`` (UTF-8 bytes ``buf[bounds[d]:bounds[d + 1]]``), its unique 32-bit
    k-shingle hashes in order of first occurrence (returned, concatenated) and their number
    (into ``counts[d]``). ``word_crc[crc & 1023]`` marks crc32s that may be a number word."""
    out = np.empty(max(16, len(buf) // 2), np.uint32)
    longest = 0
    for d in range(len(bounds) - 1):
        longest = max(longest, bounds[d + 1] - bounds[d])
    cap = 3 * longest + 8  # a byte folds to at most 3 code points; a token needs one
    a = np.empty(cap, np.uint32)
    b = np.empty(cap, np.uint32)
    tok = np.empty(cap, np.uint64)
    num = np.empty(cap, np.bool_)
    dig = np.empty(cap, np.bool_)
    kept = np.empty(cap, np.uint64)
    slot = np.empty(16, np.uint32)
    stamp = np.zeros(16, np.int64)
    total = 0
    for d in range(len(bounds) - 1):
        s, e = bounds[d], bounds[d + 1]
        n, url, at = _fold(buf, s, e, fold_idx, fold_cps, a)
        if url:
            n = _drop_urls(a, n, cls, b)
            a, b = b, a
        if at:
            n = _drop_emails(a, n, cls, b)
            a, b = b, a
        # tokens: [^\W\d_]+ | \d+ | one emoji
        nt = 0
        i = 0
        while i < n:
            cl = cls[a[i]] & TOKEN_CLASS
            if cl == 0:
                i += 1
                continue
            crc = np.uint32(0xFFFFFFFF)
            if cl == 3:
                crc = _crc_cp(crc, a[i], crc_table)
                tok[nt] = np.uint64(crc ^ np.uint32(0xFFFFFFFF))
                num[nt] = False
                dig[nt] = False
                nt += 1
                i += 1
                continue
            j = i
            all_digit = True
            while j < n:
                c = a[j]
                flags = cls[c]
                if (flags & TOKEN_CLASS) != cl:
                    break
                if not (flags & IS_DIGIT):
                    all_digit = False
                if c < 0x80:
                    crc = crc_table[(crc ^ c) & np.uint32(0xFF)] ^ (crc >> np.uint32(8))
                else:
                    crc = _crc_cp(crc, c, crc_table)
                j += 1
            crc ^= np.uint32(0xFFFFFFFF)
            tok[nt] = np.uint64(crc)
            dig[nt] = all_digit
            num[nt] = all_digit or (cl == 1 and word_crc[crc & np.uint32(1023)]
                                   and _number_word(a, i, j, words, by_length))
            nt += 1
            i = j
        # digits go, and runs of >= run_min number-like tokens (a spelled-out phone)
        m = 0
        i = 0
        while i < nt:
            if num[i]:
                j = i
                while j < nt and num[j]:
                    j += 1
                if j - i < run_min:
                    for t in range(i, j):
                        if not dig[t]:
                            kept[m] = tok[t]
                            m += 1
                i = j
            else:
                kept[m] = tok[i]
                m += 1
                i += 1
        if m == 0:
            counts[d] = 0
            continue
        windows = m - k + 1 if m >= k else 1
        if total + windows > len(out):
            grown = np.empty(max(2 * len(out), total + windows), np.uint32)
            grown[:total] = out[:total]
            out = grown
        size = 16
        while size < 2 * windows:
            size *= 2
        if size > len(slot):
            slot = np.empty(size, np.uint32)
            stamp = np.zeros(size, np.int64)
        mask = np.uint32(size - 1)
        c = 0
        for p in range(windows):
            mixed = np.uint64(0)
            if p + k <= m:
                for shift in range(k):
                    mixed = (mixed * _FNV) ^ (kept[p + shift] + np.uint64(shift + 1))
            else:
                for shift in range(k):
                    part = np.uint64(0)
                    if p + shift < m:
                        part = kept[p + shift] + np.uint64(shift + 1)
                    mixed = (mixed * _FNV) ^ part
            value = np.uint32(_fmix64(mixed) >> np.uint64(32))
            h = value & mask
            while stamp[h] == d + 1 and slot[h] != value:  # open addressing, this doc only
                h = (h + np.uint32(1)) & mask
            if stamp[h] != d + 1:
                stamp[h] = d + 1
                slot[h] = value
                out[total + c] = value
                c += 1
        counts[d] = c
        total += c
    return out[:total]


@njit(cache=True, nogil=True)
def minhash(docs, lengths, site, boiler, boiler_at, min_shingles, perm_a, perm_b, band_mult,
            ads, sig8, bandkey, ok):  # type: ignore[no-untyped-def]
    """MinHash each document's shingle hashes, leaving out its site's boilerplate (sorted,
    ``boiler[boiler_at[site]:boiler_at[site + 1]]``).

    The signature is datasketch's ``affine32`` (MurmurHash3 fmix32 of the value, then
    ``(a * h + b) mod 2**32``, minimum per permutation). ``ok[d]`` says whether at least
    ``min_shingles`` shingles were left; only then row ``ads[d]`` of ``sig8`` (the low byte of
    each minimum: b-bit MinHash) and of ``bandkey`` (one 32-bit key per LSH band: the band's
    minima mixed with ``band_mult``, then fmix64) are written.
    """
    num_perm = len(perm_a)
    rows = len(band_mult)
    row = np.empty(num_perm, np.uint32)
    start = 0
    for d in range(len(lengths)):
        lo, hi = boiler_at[site[d]], boiler_at[site[d] + 1]
        left = 0
        row[:] = np.uint32(0xFFFFFFFF)
        for t in range(start, start + lengths[d]):
            value = docs[t]
            if hi > lo:
                at = lo + np.searchsorted(boiler[lo:hi], value)
                if at < hi and boiler[at] == value:
                    continue
            left += 1
            h = np.uint32(value)
            h ^= h >> np.uint32(16)
            h = np.uint32(h * np.uint32(0x85EBCA6B))
            h ^= h >> np.uint32(13)
            h = np.uint32(h * np.uint32(0xC2B2AE35))
            h ^= h >> np.uint32(16)
            for p in range(num_perm):
                row[p] = min(row[p], np.uint32(h * perm_a[p] + perm_b[p]))
        start += lengths[d]
        ok[d] = left >= min_shingles
        if not ok[d]:
            continue
        out = ads[d]
        for p in range(num_perm):
            sig8[out, p] = np.uint8(row[p] & np.uint32(0xFF))
        for band in range(bandkey.shape[1]):
            mixed = np.uint64(0)
            for j in range(rows):
                mixed += np.uint64(row[band * rows + j]) * band_mult[j]
            bandkey[out, band] = np.uint32(_fmix64(mixed + np.uint64(band)) >> np.uint64(32))


@njit(cache=True, nogil=True)
def bucket_pairs(packed, in_q, cap, n):  # type: ignore[no-untyped-def]
    """Candidate pairs of one LSH band as codes ``a * n + b`` (``a < b``).

    ``packed`` is sorted ``key << 32 | ad``, so a bucket is a run of equal keys with its ads
    ascending. A bucket with a queried ad (``in_q``) gives all its pairs that touch one, up
    to ``cap`` ads; a bigger bucket gives a star on its first ad plus a chain, which keeps
    it linear and still connected.
    """
    m = len(packed)
    low = np.uint64(0xFFFFFFFF)
    out = np.empty(max(16, m), np.int64)
    c = 0
    st = 0
    while st < m:
        key = packed[st] >> np.uint64(32)
        en = st + 1
        while en < m and (packed[en] >> np.uint64(32)) == key:
            en += 1
        size = en - st
        queried = False
        if size >= 2:
            for t in range(st, en):
                if in_q[np.int64(packed[t] & low)]:
                    queried = True
                    break
        if queried:
            need = size * (size - 1) // 2 if size <= cap else 2 * size
            if c + need > len(out):
                grown = np.empty(max(2 * len(out), c + need), np.int64)
                grown[:c] = out[:c]
                out = grown
            if size <= cap:
                for x in range(st, en):
                    ax = np.int64(packed[x] & low)
                    qx = in_q[ax]
                    for y in range(x + 1, en):
                        ay = np.int64(packed[y] & low)
                        if qx or in_q[ay]:
                            out[c] = ax * n + ay
                            c += 1
            else:
                first = np.int64(packed[st] & low)
                for x in range(st + 1, en):
                    out[c] = first * n + np.int64(packed[x] & low)
                    c += 1
                for x in range(st + 1, en - 1):
                    out[c] = np.int64(packed[x] & low) * n + np.int64(packed[x + 1] & low)
                    c += 1
        st = en
    return out[:c]


@njit(cache=True, nogil=True)
def agreement(sig8, codes, n, out):  # type: ignore[no-untyped-def]
    """Share of equal signature bytes for each pair code ``a * n + b``."""
    num_perm = sig8.shape[1]
    for i in range(len(codes)):
        a, b = codes[i] // n, codes[i] % n
        same = 0
        for p in range(num_perm):
            if sig8[a, p] == sig8[b, p]:
                same += 1
        out[i] = same / num_perm


@njit(cache=True, inline="always")
def _popcount64(x):  # type: ignore[no-untyped-def]
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, nogil=True)
def near_probe(order, sorted_values, sorted_hashes, bucket_start, start, flips, max_distance):
    # type: ignore[no-untyped-def]
    """One band of multi-index hashing: for each new hash (index ``>= start``), the earlier
    hashes whose band value is within the flips of its own, kept when the whole 64-bit
    Hamming distance is at most ``max_distance``; rows (i, j, distance).

    Everything is in band-value order (``order`` sorts the hashes by band value), so a bucket
    is read sequentially and neighbouring queries read neighbouring buckets: at a million
    hashes, reading them in index order was mostly cache misses.
    """
    out = np.empty((max(16, (len(order) - start) // 4), 3), np.int64)
    c = 0
    for p in range(len(order)):
        i = order[p]
        if i < start:
            continue
        h = sorted_hashes[p]
        for f in range(len(flips)):
            probe = sorted_values[p] ^ flips[f]
            for t in range(bucket_start[probe], bucket_start[probe + 1]):
                j = order[t]
                if j >= i:
                    continue
                dist = _popcount64(h ^ sorted_hashes[t])
                if dist <= max_distance:
                    if c == len(out):
                        grown = np.empty((2 * len(out), 3), np.int64)
                        grown[:c] = out[:c]
                        out = grown
                    out[c, 0] = i
                    out[c, 1] = j
                    out[c, 2] = dist
                    c += 1
    return out[:c]
