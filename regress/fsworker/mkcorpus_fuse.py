#!/usr/bin/env python3
#
# Writes the seed inputs of fuzz_fuse into corpus_fuse/: one per
# operation the worker serves, each after the requests that give it a
# node or a handle to work on.  An input is a configuration byte, then
# requests; node ids from 2 and handles up to 0xffff are indices into
# those the replies of the input gave out (see fuzz_fuse.c).
#
#	mkcorpus_fuse.py [directory]

import os
import struct
import sys

OP = dict(LOOKUP=1, FORGET=2, GETATTR=3, SETATTR=4, READLINK=5,
          SYMLINK=6, MKNOD=8, MKDIR=9, UNLINK=10, RMDIR=11, RENAME=12,
          LINK=13, OPEN=14, READ=15, WRITE=16, STATFS=17, RELEASE=18,
          FSYNC=20, SETXATTR=21, GETXATTR=22, LISTXATTR=23,
          REMOVEXATTR=24, FLUSH=25, INIT=26, OPENDIR=27, READDIR=28,
          RELEASEDIR=29, FSYNCDIR=30, GETLK=31, SETLK=32, SETLKW=33,
          ACCESS=34, CREATE=35, INTERRUPT=36, BMAP=37, DESTROY=38,
          BATCH_FORGET=42, FALLOCATE=43, READDIRPLUS=44, RENAME2=45,
          LSEEK=46, COPY_FILE_RANGE=47, TMPFILE=51, STATX=52,
          COPY_FILE_RANGE_64=53)

ROOT = 1
N0 = 2          # the first node an input looked up
unique = [100]


def req(op, node, arg=b''):
    unique[0] += 1
    return struct.pack('<IIQQIIIHH', 40 + len(arg), OP[op], unique[0],
                       node, 0, 0, 1, 0, 0) + arg


def name(s):
    return s.encode() + b'\0'


def lookup(dirnode, s):
    return req('LOOKUP', dirnode, name(s))


def open_(node, flags=os.O_RDWR):
    return req('OPEN', node, struct.pack('<II', flags, 0))


def opendir(node):
    return req('OPENDIR', node, struct.pack('<II', os.O_RDONLY, 0))


def read_in(fh, off, size):
    return struct.pack('<QQIIQII', fh, off, size, 0, 0, os.O_RDWR, 0)


def lk_in(fh, typ, start=0, end=2**63 - 1, flags=0):
    return struct.pack('<QQQQIIII', fh, 7, start, end, typ, 1, flags, 0)


# Node 2: the regular file "file"; handle 0: it opened read-write.
FILE = lookup(ROOT, 'file')
OPENED = FILE + open_(N0)
DIR = lookup(ROOT, 'dir')
DIROPEN = DIR + opendir(N0)

SEEDS = {
    'lookup': FILE + lookup(ROOT, 'nothing') + lookup(ROOT, '..'),
    'forget': FILE + req('FORGET', N0, struct.pack('<Q', 1)),
    'batch_forget': FILE + DIR[:0] + lookup(ROOT, 'dir') +
    req('BATCH_FORGET', ROOT, struct.pack('<II', 2, 0) +
        struct.pack('<QQ', N0, 1) + struct.pack('<QQ', N0 + 1, 1)),
    'getattr': FILE + req('GETATTR', N0, struct.pack('<IIQ', 0, 0, 0)),
    'setattr': OPENED + req('SETATTR', N0, struct.pack(
        '<IIQQQQQQIIIIIIII', (1 << 0) | (1 << 3) | (1 << 3 + 0), 0, 0, 4,
        0, 0, 0, 0, 0, 0, 0, 0o600, 0, 0, 0, 0)),
    'readlink': lookup(ROOT, 'link') + req('READLINK', N0),
    'symlink': req('SYMLINK', ROOT, name('sl') + name('file')),
    'mknod': req('MKNOD', ROOT, struct.pack('<IIII', 0o10644, 0, 0o022, 0) +
                 name('fifo2')),
    'mkdir': req('MKDIR', ROOT, struct.pack('<II', 0o755, 0o022) +
                 name('newdir')),
    'unlink': req('UNLINK', ROOT, name('link')),
    'rmdir': DIR + req('RMDIR', N0, name('sub')),
    'rename': DIR + req('RENAME', ROOT, struct.pack('<Q', N0) +
                        name('file') + name('moved')),
    'rename2': DIR + req('RENAME2', ROOT, struct.pack('<QII', N0, 2, 0) +
                         name('file') + name('hard')),
    'link': FILE + req('LINK', ROOT, struct.pack('<Q', N0) + name('file2')),
    'open': FILE + open_(N0, os.O_RDONLY) + lookup(ROOT, 'fifo') +
    open_(N0 + 1),
    'read': OPENED + req('READ', N0, read_in(0, 0, 4096)),
    'write': OPENED + req('WRITE', N0, struct.pack(
        '<QQIIQII', 0, 3, 5, 0, 0, os.O_RDWR, 0) + b'hello'),
    'statfs': req('STATFS', ROOT),
    'release': OPENED + req('RELEASE', N0, struct.pack('<QIIQ', 0, 0, 0, 0)),
    'fsync': OPENED + req('FSYNC', N0, struct.pack('<QII', 0, 1, 0)),
    'setxattr': FILE + req('SETXATTR', N0, struct.pack('<IIII', 3, 0, 0, 0) +
                           name('user.new') + b'abc'),
    'getxattr': FILE + req('GETXATTR', N0, struct.pack('<II', 64, 0) +
                           name('user.fuzz')),
    'listxattr': FILE + req('LISTXATTR', N0, struct.pack('<II', 256, 0)),
    'removexattr': FILE + req('REMOVEXATTR', N0, name('user.fuzz')),
    'flush': OPENED + req('FLUSH', N0, struct.pack('<QIIQ', 0, 0, 0, 7)),
    'init_again': req('INIT', 0, struct.pack('<IIII', 7, 45, 0, 0)),
    'opendir': DIROPEN,
    'readdir': DIROPEN + req('READDIR', N0, read_in(0, 0, 4096)),
    'readdirplus': DIROPEN + req('READDIRPLUS', N0, read_in(0, 0, 4096)) +
    opendir(ROOT) + req('READDIRPLUS', ROOT, read_in(1, 0, 4096)),
    'releasedir': DIROPEN + req('RELEASEDIR', N0,
                                struct.pack('<QIIQ', 0, 0, 0, 0)),
    'fsyncdir': DIROPEN + req('FSYNCDIR', N0, struct.pack('<QII', 0, 0, 0)),
    'getlk': OPENED + req('GETLK', N0, lk_in(0, 1)),
    'setlk': OPENED + req('SETLK', N0, lk_in(0, 1)) +
    req('SETLK', N0, lk_in(0, 2)),
    'setlkw': OPENED + req('SETLKW', N0, lk_in(0, 1)),
    'flock': OPENED + req('SETLK', N0, lk_in(0, 1, flags=1)),
    'access': FILE + req('ACCESS', N0, struct.pack('<II', 4, 0)),
    'create': req('CREATE', ROOT, struct.pack(
        '<IIII', os.O_RDWR | os.O_CREAT, 0o644, 0o022, 0) + name('new')),
    'interrupt': req('INTERRUPT', 0, struct.pack('<Q', 12345)),
    'bmap': FILE + req('BMAP', N0, struct.pack('<QII', 0, 4096, 0)),
    'destroy': OPENED + req('DESTROY', 0) + req('STATFS', ROOT),
    'fallocate': OPENED + req('FALLOCATE', N0,
                              struct.pack('<QQQII', 0, 0, 8192, 0, 0)),
    'lseek': OPENED + req('LSEEK', N0, struct.pack('<QQII', 0, 0, 3, 0)),
    'copy_file_range': OPENED + req('CREATE', ROOT, struct.pack(
        '<IIII', os.O_RDWR | os.O_CREAT, 0o644, 0o022, 0) + name('dst')) +
    req('COPY_FILE_RANGE', N0, struct.pack('<QQQQQQQ', 0, 0, N0 + 1, 1,
                                           0, 8, 0)),
    'copy_file_range_64': OPENED + req('COPY_FILE_RANGE_64', N0,
                                       struct.pack('<QQQQQQQ', 0, 0, N0, 0,
                                                   16, 8, 0)),
    'tmpfile': req('TMPFILE', ROOT, struct.pack(
        '<IIII', os.O_RDWR, 0o600, 0o022, 0) + name('/')),
    'statx': FILE + req('STATX', N0, struct.pack('<IIQII', 0, 0, 0, 0,
                                                 0x7ff)),
    'bad_length': struct.pack('<IIQQIIIHH', 400, OP['LOOKUP'], 9, ROOT,
                              0, 0, 0, 0, 0) + name('file'),
}

CONFIGS = {'ro': 0x01, 'noxattr': 0x02, 'never': 0x04, 'always': 0x08,
           'writeback': 0x10, 'multiuser': 0x20}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus_fuse')
    os.makedirs(out, exist_ok=True)
    for k, v in SEEDS.items():
        with open(os.path.join(out, 'seed-' + k), 'wb') as f:
            f.write(b'\0' + v)
    for k, c in CONFIGS.items():
        with open(os.path.join(out, 'seed-config-' + k), 'wb') as f:
            # Indices count from the first reply: readdirplus first.
            f.write(bytes([c]) + SEEDS['readdirplus'] + SEEDS['create'] +
                    SEEDS['mkdir'] + req('SETXATTR', ROOT, struct.pack(
                        '<IIII', 1, 0, 0, 0) + name('user.c') + b'c'))


main()
