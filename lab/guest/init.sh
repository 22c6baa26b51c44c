#!/bin/busybox sh
# The kernel lab's guest init (PID 1 of the initramfs): loads the modules,
# prepares the devices the lab tests want, runs the checkout's mocha suite
# and powers off. Everything it prints reaches the host on the serial console.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
# Loopback: tests that serve HTTP or connect to 127.0.0.1 (sendFile) need it up.
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
dmesg -n 1
echo "KAIO-LAB-BOOTED $(uname -r) $(cut -d' ' -f1 /proc/uptime)s"

for m in virtio_pci virtio_blk crc32c_generic crc32c_intel ext4 configfs dm_mod dm_flakey loop; do
  modprobe "$m" 2>/dev/null
done
mount -t configfs none /sys/kernel/config 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vdb ] && break; sleep 0.2; done

# Test temp files: an ext4 disk (O_DIRECT works there on every kernel).
mount -t ext4 /dev/vda /tmp || echo "KAIO-LAB-WARN scratch disk not mounted: /tmp is the initramfs"
chmod 1777 /tmp
export TMPDIR=/tmp

POLLED=""
# qemu's NVMe with poll queues.
modprobe nvme poll_queues=2 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/nvme0n1 ] && break; sleep 0.2; done
if [ -b /dev/nvme0n1 ] && [ "$(cat /sys/block/nvme0n1/queue/io_poll 2>/dev/null)" = 1 ]; then
  POLLED=/dev/nvme0n1
fi
# null_blk (memory-backed where the module can) with poll queues (5.13+).
NB="queue_mode=2 poll_queues=2 nr_devices=1 gb=1 bs=4096"
modinfo -p null_blk 2>/dev/null | grep -q '^memory_backed' && NB="$NB memory_backed=1"
if modinfo -p null_blk 2>/dev/null | grep -q '^poll_queues' && modprobe null_blk $NB 2>/dev/null; then
  if [ -b /dev/nullb0 ] && [ "$(cat /sys/block/nullb0/queue/io_poll 2>/dev/null)" = 1 ]; then
    if grep -q '^memory_backed' /sys/module/null_blk/parameters/memory_backed 2>/dev/null || \
       [ "$(cat /sys/module/null_blk/parameters/memory_backed 2>/dev/null)" = Y ] || \
       [ "$(cat /sys/module/null_blk/parameters/memory_backed 2>/dev/null)" = 1 ]; then
      POLLED="${POLLED:+$POLLED,}/dev/nullb0"
    else
      export KAIO_LAB_POLLED_NODATA=/dev/nullb0
    fi
  fi
fi
[ -n "$POLLED" ] && export KAIO_LAB_POLLED_DEV="$POLLED"

# A device whose sectors 2048-4095 fail every read and write (dm's error
# target), linear to the second virtio disk elsewhere.
if [ -b /dev/vdb ]; then
  SECTORS=$(cat /sys/block/vdb/size)
  printf '0 2048 linear /dev/vdb 0\n2048 2048 error\n4096 %s linear /dev/vdb 4096\n' $((SECTORS - 4096)) \
    | dmsetup create kaio-faulty --noudevsync 2>/tmp/dmsetup.err
  dmsetup mknodes kaio-faulty 2>/dev/null
  if [ -b /dev/mapper/kaio-faulty ]; then
    export KAIO_LAB_FAULTY_DEV=/dev/mapper/kaio-faulty KAIO_LAB_FAULTY_SECTORS=2048:2048
  else
    echo "KAIO-LAB-WARN no faulty device: $(cat /tmp/dmsetup.err)"
  fi
  rm -f /tmp/dmsetup.err
fi

echo "KAIO-LAB-ENV-BEGIN"
echo "kernel $(uname -r)"
echo "io_uring_disabled $(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo absent)"
echo "memlock $(ulimit -l) KiB"
echo "polled ${KAIO_LAB_POLLED_DEV:-none}${KAIO_LAB_POLLED_NODATA:+ (no data: $KAIO_LAB_POLLED_NODATA)}"
echo "faulty ${KAIO_LAB_FAULTY_DEV:-none}"
cd /kaio
# What kaio discovers here (compare with what the kernel has).
node -e '
const { probe, Ring } = require(".");
const p = probe();
const u = p.ioUring;
console.log(`backend ${p.backend.backend} (${p.backend.reason}); aio ${p.aio.available}`);
if (u.available) {
  const r = new Ring();
  console.log(`io_uring ops ${u.ops.length}, newest ${u.ops.slice(-3).join(" ")}; ` +
    `READV_FIXED ${u.ops.includes("READV_FIXED")}; setup granted ${r.params.setupFlags.join(" ") || "-"}`);
  console.log(`io_uring features ${u.features.join(" ")}`);
  r.close();
} else console.log(`io_uring unavailable: ${u.error || JSON.stringify(u)}`);
' 2>&1
echo "KAIO-LAB-ENV-END"

# RLIMIT_MEMLOCK as kernels from 5.16 set it (8 MiB): before, it is 64 KiB,
# and the tests' unprivileged children (32, 45) cannot raise it to 8 MiB.
ulimit -l 8192
echo "KAIO-LAB-NOTE memlock set to $(ulimit -l) KiB"
export KAIO_LAB_SKIPS=/results/skips.tsv
START=$(cut -d' ' -f1 /proc/uptime)
# TCG runs code several times slower than the hardware: more time per test.
# No standard input, as in CI (a read of fd 0 must not wait on the console).
# mocha runs without --exit (as npm test does): a test that leaves something
# alive keeps it from exiting after its closing line. Then the watchdog below
# stops it after 60 s and says so, instead of the VM waiting for its timeout.
# KAIO_LAB_SPEC on the host: only those files (the config's list would add every file).
SPEC=$(cat /lab/spec 2>/dev/null)
[ -n "$SPEC" ] && SPEC="--no-config --reporter ./test/reporter.js $SPEC"
# shellcheck disable=SC2086
node node_modules/mocha/bin/mocha.js $SPEC --no-color --timeout "${KAIO_LAB_MOCHA_TIMEOUT:-180000}" \
  --require /lab/skip-reasons.js </dev/null >/results/mocha.out 2>&1 &
MOCHA=$!
tail -f /results/mocha.out &
TAIL=$!
LEFT=60
while kill -0 $MOCHA 2>/dev/null; do
  if grep -q '^tests: [0-9]* passed' /results/mocha.out; then
    LEFT=$((LEFT - 1))
    if [ $LEFT -le 0 ]; then
      echo "KAIO-LAB-WARN mocha did not exit within 60 s of its closing line (something kept its event loop alive): killed"
      kill -9 $MOCHA
      break
    fi
  fi
  sleep 1
done
wait $MOCHA
RC=$?
sleep 1
kill $TAIL 2>/dev/null
END=$(cut -d' ' -f1 /proc/uptime)
echo "KAIO-LAB-SUITE-SECONDS $(awk "BEGIN{print $END - $START}")"
echo "KAIO-LAB-SKIPS-BEGIN"
cat /results/skips.tsv 2>/dev/null
echo "KAIO-LAB-SKIPS-END"
echo "KAIO-LAB-EXIT $RC"
umount /tmp 2>/dev/null
sync
poweroff -f
