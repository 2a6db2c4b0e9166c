#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Stages the root filesystem tree of the vm stage's guest from the host's installed
Debian packages.

  mkroot.py closure PACKAGES          print "name version" of every package in the
                                      installed dependency closure of the list, sorted
                                      (the cache key of the image); exit 3 and print the
                                      missing names on stderr when some are not installed
  mkroot.py stage PACKAGES DEST KMOD  copy the closure's files into DEST (which must not
                                      exist), add the /etc bits a booted system needs and
                                      the kernel modules tree KMOD (lib/modules/<version>)

The files come from the host's own installation (dpkg's file lists), so the guest runs
exactly the toolchains the host has. Documentation and locales are left out.
"""
import os
import re
import shutil
import subprocess
import sys

ARCHES = ('amd64', 'all')
SKIP_PREFIXES = ('/usr/share/doc/', '/usr/share/man/', '/usr/share/info/',
                 '/usr/share/locale/', '/usr/share/lintian/', '/usr/share/bug/')
MERGED_USR = ('bin', 'sbin', 'lib', 'lib64')
IMPLICIT = ('base-files', 'libc-bin')
HOST_PATHS = ('/etc/ssl/certs',)


def read_package_list(path):
    names = []
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                names.append(line)
    return names + [n for n in IMPLICIT if n not in names]


def installed_packages():
    """Returns {name: (version, [dep alternatives...])} and {virtual: [providers]}."""
    fmt = '${Package}\\t${Architecture}\\t${Version}\\t${db:Status-Abbrev}\\t' \
          '${Provides}\\t${Pre-Depends}, ${Depends}\\n'
    out = subprocess.run(['dpkg-query', '-W', '-f=' + fmt], check=True,
                         capture_output=True, text=True).stdout
    pkgs, provides = {}, {}
    for line in out.splitlines():
        name, arch, version, status, prov, deps = line.split('\t')
        if arch not in ARCHES or not status.startswith('ii'):
            continue
        pkgs[name] = (version, parse_deps(deps))
        for p in prov.split(','):
            p = strip_name(p)
            if p:
                provides.setdefault(p, []).append(name)
    return pkgs, provides


def strip_name(s):
    """'libfoo:any (>= 1)' -> 'libfoo'."""
    s = re.sub(r'\(.*?\)', '', s).strip()
    return s.split(':', 1)[0]


def parse_deps(field):
    groups = []
    for group in field.split(','):
        alts = [strip_name(a) for a in group.split('|')]
        alts = [a for a in alts if a]
        if alts:
            groups.append(alts)
    return groups


def resolve(name, pkgs, provides):
    if name in pkgs:
        return name
    for p in provides.get(name, []):
        if p in pkgs:
            return p
    return None


def closure(wanted):
    pkgs, provides = installed_packages()
    missing = [w for w in wanted if resolve(w, pkgs, provides) is None]
    if missing:
        return None, missing
    seen = set()
    todo = [resolve(w, pkgs, provides) for w in wanted]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for alts in pkgs[name][1]:
            for a in alts:
                r = resolve(a, pkgs, provides)
                if r:
                    todo.append(r)
                    break
    return {n: pkgs[n][0] for n in seen}, []


def package_files(name):
    for fn in (f'/var/lib/dpkg/info/{name}.list', f'/var/lib/dpkg/info/{name}:amd64.list'):
        if os.path.exists(fn):
            with open(fn) as f:
                return [line.rstrip('\n') for line in f]
    return []


def wanted_path(path):
    if path in ('/', '/.') or path.startswith(SKIP_PREFIXES):
        return False
    if path.lstrip('/') in MERGED_USR:
        return False
    if not os.path.lexists(path):
        return False
    return os.path.islink(path) or not os.path.isdir(path)


def copy_files(names, dest):
    files = set()
    for n in names:
        files.update(p for p in package_files(n) if wanted_path(p))
    for d in MERGED_USR:
        os.makedirs(os.path.join(dest, 'usr', d), exist_ok=True)
        os.symlink('usr/' + d, os.path.join(dest, d))
    data = ''.join(p.lstrip('/') + '\0' for p in sorted(files)).encode()
    pack = subprocess.Popen(['tar', '-C', '/', '--null', '--no-recursion', '-T', '-',
                             '-cf', '-'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    unpack = subprocess.Popen(['tar', '-C', dest, '--keep-directory-symlink', '-xf', '-'],
                              stdin=pack.stdout)
    pack.stdout.close()
    pack.stdin.write(data)
    pack.stdin.close()
    if pack.wait() != 0 or unpack.wait() != 0:
        raise SystemExit('mkroot: copying package files failed')
    return files


def copy_dirs(names, dest):
    """Creates the packages' directories, empty ones included, with the host's modes."""
    for n in names:
        for p in package_files(n):
            if p in ('/', '/.') or p.startswith(SKIP_PREFIXES) or p.lstrip('/') in MERGED_USR:
                continue
            if os.path.islink(p) or not os.path.isdir(p):
                continue
            d = dest + p
            if not os.path.lexists(d):
                os.makedirs(d)
                os.chmod(d, os.stat(p).st_mode & 0o7777)


def copy_host_paths(dest):
    """Files maintainer scripts generate (not in dpkg's lists) that the tests need."""
    for p in HOST_PATHS:
        if os.path.isdir(p) and not os.path.lexists(dest + p):
            shutil.copytree(p, dest + p, symlinks=True)


def copy_alternatives(dest):
    """Recreates update-alternatives links (cc, awk, ...) whose target was staged."""
    for bindir in ('/usr/bin', '/usr/sbin'):
        for entry in os.scandir(bindir):
            if not entry.is_symlink():
                continue
            link = os.readlink(entry.path)
            if not link.startswith('/etc/alternatives/'):
                continue
            target = os.path.realpath(entry.path)
            if not os.path.lexists(dest + target):
                continue
            alt = dest + link
            os.makedirs(os.path.dirname(alt), exist_ok=True)
            if not os.path.lexists(alt):
                os.symlink(target, alt)
            if not os.path.lexists(dest + entry.path):
                os.symlink(link, dest + entry.path)


ETC = {
    'passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:'
              '/usr/sbin/nologin\n',
    'group': 'root:x:0:\nnogroup:x:65534:\n',
    'hostname': 'airlock-vm\n',
    'hosts': '127.0.0.1\tlocalhost airlock-vm\n::1\tlocalhost ip6-localhost\n',
    'nsswitch.conf': 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n'
                     'networks: files\nprotocols: files\nservices: files\n',
    'resolv.conf': '',
    'fstab': '',
}


def finish_tree(dest, kmod_dir):
    for name, text in ETC.items():
        with open(os.path.join(dest, 'etc', name), 'w') as f:
            f.write(text)
    sh = os.path.join(dest, 'usr/bin/sh')
    if not os.path.lexists(sh):
        os.symlink('dash', sh)
    mtab = os.path.join(dest, 'etc/mtab')
    if not os.path.lexists(mtab):
        os.symlink('../proc/self/mounts', mtab)
    for d in ('proc', 'sys', 'dev', 'run', 'tmp', 'var/tmp', 'root', 'mnt',
              'var/lib/airlock', 'opt/airlock-vm'):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
    os.chmod(os.path.join(dest, 'tmp'), 0o1777)
    os.chmod(os.path.join(dest, 'var/tmp'), 0o1777)
    version = os.path.basename(os.path.normpath(kmod_dir))
    shutil.copytree(kmod_dir, os.path.join(dest, 'usr/lib/modules', version), symlinks=True)
    subprocess.run(['depmod', '-b', dest, version], check=True)
    subprocess.run(['ldconfig', '-r', dest], check=True)


def main(argv):
    if len(argv) >= 3 and argv[1] == 'closure':
        names, missing = closure(read_package_list(argv[2]))
        if missing:
            print(' '.join(missing), file=sys.stderr)
            return 3
        for n in sorted(names):
            print(n, names[n])
        return 0
    if len(argv) == 5 and argv[1] == 'stage':
        names, missing = closure(read_package_list(argv[2]))
        if missing:
            print('mkroot: not installed: ' + ' '.join(missing), file=sys.stderr)
            return 3
        os.makedirs(argv[3])
        copy_files(names, argv[3])
        copy_dirs(names, argv[3])
        copy_host_paths(argv[3])
        copy_alternatives(argv[3])
        finish_tree(argv[3], argv[4])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
