// The device behind the wasm examples in the QEMU guest: a NIC-like device model on this machine,
// outside QEMU, over the ivshmem backing file that test/kernel/run.sh gives QEMU as the device's
// shared memory (BAR2 in the guest). test/kernel/wasm-guest.mjs announces each run (a session) in a
// control page; the model then consumes what the driver publishes, checks it against what the
// example is defined to send (computed here from the formats, not taken from the driver), and hands
// the ring back by advancing a head register. In C, so that every register access is one aligned
// 32-bit load or store, as the guest's are (a read(2) of the file may copy byte by byte).
//
//   ivshmem-model BACKING-FILE EXPECTED-SESSIONS   (until SIGTERM)
//
// BAR2 layout (IVSHMEM_LAYOUT of examples/nic-tx/main.ts):
//   0x20000  registers: DOORBELL 0x40 (nic-tx: descriptors produced), TX_HEAD 0x44 (consumed, ours),
//            TAIL 0x48 (ring-producer: slots produced), HEAD 0x4c (slots consumed, ours)
//   0x30000  control: SESSION 0x00, KIND 0x04 (1 nic-tx, 2 ring-producer), COUNT 0x08, LABEL 0x40
//            (64 bytes, printable), then COMMIT 0x0c = SESSION ^ "wasm", written by the guest; ACK 0x80 (the session, once the
//            registers are reset), DONE 0x84 (the session, once checked), CHECKED 0x88, BYTES 0x8c,
//            OUT_OF_ORDER 0x90, CORRUPT 0x94, written by the model
//   0xe0000  the push buffer / ring: 128 KiB of 64-byte slots
// One line per session: PASS/FAIL host/wasm/LABEL with the counts; a session left unfinished at
// SIGTERM is a FAIL, and so is a run with fewer sessions than expected.
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define REGS 0x20000
#define CTRL 0x30000
#define PUSH 0xe0000
#define SLOTS (0x20000 / 64)
#define DOORBELL 0x40
#define TX_HEAD 0x44
#define TAIL 0x48
#define HEAD 0x4c
#define MAGIC 0x6d736177	/* "wasm" */

static uint8_t *mem;
static volatile sig_atomic_t stopping;

static uint32_t reg(uint32_t at) { return __atomic_load_n((uint32_t *)(mem + at), __ATOMIC_ACQUIRE); }
static void set(uint32_t at, uint32_t v) { __atomic_store_n((uint32_t *)(mem + at), v, __ATOMIC_RELEASE); }

/* nic-tx's descriptor `seq` as its format defines it (examples/nic-tx/assembly/driver.ts's header). */
static void descriptor(uint32_t seq, uint32_t w[16])
{
	uint64_t addr = 0x100000000ULL + ((uint64_t)seq << 11);
	uint32_t x = 0;

	w[0] = (uint32_t)addr;
	w[1] = (uint32_t)(addr >> 32);
	w[2] = 60 + (seq & 0x3ff);
	w[3] = 0x80000001u | ((seq & 1) << 8);
	w[4] = seq;
	for (uint32_t k = 0; k < 10; k++)
		w[5 + k] = seq * 0x9e3779b1u + k;
	for (int k = 0; k < 15; k++)
		x ^= w[k];
	w[15] = x ^ 0xc0ffee11u;
}

/* ring-producer's record `seq` (examples/ring-producer/assembly/producer.ts): header {seq, len},
 * payload, zeros to the end of its last 64-byte slot. Returns its length in bytes (slots * 64). */
static uint32_t record(uint32_t seq, uint8_t r[256], uint32_t *len)
{
	uint32_t n = 1 + (seq * 37) % 248, size = (8 + n + 63) / 64 * 64;

	memset(r, 0, 256);
	memcpy(r, &seq, 4);
	memcpy(r + 4, &n, 4);
	for (uint32_t i = 0; i < n; i++)
		r[8 + i] = (uint8_t)(seq + i * 7);
	*len = n;
	return size;
}

struct session {
	uint32_t id, kind, count, head, seen, checked, bytes, out_of_order, corrupt, kicks;
	char label[65], first[160];
};

static void report(const struct session *s, int complete)
{
	int ok = complete && s->checked == s->count && !s->out_of_order && !s->corrupt;

	printf("%s host/wasm/%s: %u %s of %u checked, %u %sbytes, %u out-of-order, %u corrupt%s%s%s; %u %s seen\n",
	       ok ? "PASS" : "FAIL", s->label, s->checked, s->kind == 1 ? "descriptors" : "records", s->count, s->bytes,
	       s->kind == 1 ? "" : "payload ", s->out_of_order, s->corrupt,
	       complete ? "" : ": unfinished (the driver stopped, or the guest ended the run)", s->first[0] ? "; first: " : "", s->first,
	       s->kicks, s->kind == 1 ? "doorbells" : "tail updates");
	fflush(stdout);
}

__attribute__((format(printf, 2, 3))) static void note(struct session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->first[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->first, sizeof(s->first), fmt, ap);
	va_end(ap);
}

/* nic-tx: every descriptor between our head and the doorbell, in order, then TX_HEAD. */
static int nic_tx(struct session *s)
{
	uint32_t tail = reg(REGS + DOORBELL), want[16], other[16];

	if (tail == s->seen)
		return 0;
	s->seen = tail;
	s->kicks++;
	for (; (int32_t)(tail - s->head) > 0 && s->checked < s->count; s->head++, s->checked++, s->bytes += 64) {
		const uint8_t *at = mem + PUSH + (s->head % SLOTS) * 64;
		uint32_t got;

		descriptor(s->head, want);
		if (!memcmp(at, want, 64))
			continue;
		memcpy(&got, at + 16, 4);
		descriptor(got, other);
		if (got != s->head && !memcmp(at, other, 64)) {
			s->out_of_order++;
			note(s, "the slot of descriptor %u holds descriptor %u", s->head, got);
		} else {
			s->corrupt++;
			note(s, "descriptor %u differs from its definition", s->head);
		}
	}
	set(REGS + TX_HEAD, s->head);
	return 1;
}

/* ring-producer: every record (and the end-of-ring padding) between our head and TAIL, then HEAD. */
static int ring(struct session *s)
{
	static const uint8_t pad[64] = { 0xff, 0xff, 0xff, 0xff };
	uint32_t tail = reg(REGS + TAIL), len, got, size;
	uint8_t want[256], other[256];

	if (tail == s->seen)
		return 0;
	s->seen = tail;
	s->kicks++;
	while ((int32_t)(tail - s->head) > 0 && s->checked < s->count) {
		const uint8_t *at = mem + PUSH + (s->head % SLOTS) * 64;

		memcpy(&got, at, 4);
		if (got == 0xffffffffu) {
			uint32_t rest = SLOTS - s->head % SLOTS;

			for (uint32_t k = 0; k < rest; k++)
				if (memcmp(at + k * 64, pad, 64)) {
					s->corrupt++;
					note(s, "padding slot %u differs", s->head + k);
					break;
				}
			s->head += rest;
			continue;
		}
		size = record(s->checked, want, &len);
		if (!memcmp(at, want, size)) {
			s->bytes += len;
		} else if (got != s->checked && got < s->count && !memcmp(at, other, size = record(got, other, &len))) {
			s->out_of_order++;
			note(s, "record %u's place holds record %u", s->checked, got);
		} else {
			s->corrupt++;
			note(s, "record %u differs from its definition", s->checked);
		}
		s->head += size / 64;
		s->checked++;
	}
	set(REGS + HEAD, s->head);
	return 1;
}

static void stop(int sig) { stopping = sig; }

/* A session the guest announced, not bytes other tests left in the page (the C runner's random
 * run writes all over BAR2): COMMIT (written last) is SESSION ^ "wasm", a known kind, a count, a
 * printable label. */
static int announced(uint32_t id)
{
	uint32_t kind = reg(CTRL + 4), count = reg(CTRL + 8);

	if (reg(CTRL + 0xc) != (id ^ MAGIC) || (kind != 1 && kind != 2) || count == 0 || count > 100000000)
		return 0;
	for (int i = 0; i < 64 && mem[CTRL + 0x40 + i]; i++)
		if (mem[CTRL + 0x40 + i] < 0x20 || mem[CTRL + 0x40 + i] > 0x7e)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	struct session s = { 0 };
	uint32_t last = 0, started = 0, expected;
	int fd, live = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: ivshmem-model BACKING-FILE EXPECTED-SESSIONS\n");
		return 2;
	}
	expected = (uint32_t)strtoul(argv[2], NULL, 10);
	fd = open(argv[1], O_RDWR);
	mem = fd < 0 ? MAP_FAILED : mmap(NULL, 0x100000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		perror(argv[1]);
		return 1;
	}
	signal(SIGTERM, stop);
	while (!stopping) {
		uint32_t id = reg(CTRL);
		int moved = 0;

		if (id != 0 && id != last && announced(id)) {
			if (live)
				report(&s, 0);
			memset(&s, 0, sizeof(s));
			s.id = last = id;
			s.kind = reg(CTRL + 4);
			s.count = reg(CTRL + 8);
			memcpy(s.label, mem + CTRL + 0x40, 64);
			live = 1;
			started++;
			set(REGS + DOORBELL, 0);
			set(REGS + TX_HEAD, 0);
			set(REGS + TAIL, 0);
			set(REGS + HEAD, 0);
			set(CTRL + 0x84, 0);
			set(CTRL + 0x80, id);
			continue;
		}
		if (live) {
			moved = s.kind == 1 ? nic_tx(&s) : ring(&s);
			if (s.checked >= s.count) {
				set(CTRL + 0x88, s.checked);
				set(CTRL + 0x8c, s.bytes);
				set(CTRL + 0x90, s.out_of_order);
				set(CTRL + 0x94, s.corrupt);
				set(CTRL + 0x84, s.id);
				report(&s, 1);
				live = 0;
			}
		}
		if (!moved)
			nanosleep(&(struct timespec){ .tv_nsec = 200000 }, NULL);
	}
	if (live)
		report(&s, 0);
	printf("%s host/wasm/sessions: %u of %u runs announced to the device model\n", started == expected ? "PASS" : "FAIL", started, expected);
	return 0;
}
