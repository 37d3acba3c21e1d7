package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of /proc's CPU times on Linux (USER_HZ, 100 on every
// architecture Go supports).
const userHZ = 100

// cpuSnap is a snapshot of CPU times in seconds: of the whole machine (all
// CPUs, busy only), of the server process and of this tool. Over a phase
// they tell whether something else on the machine competed for the CPU.
type cpuSnap struct {
	at                   time.Time
	machine, server, own float64
	ok                   bool // /proc/stat was read
}

func takeCPU(pid int) cpuSnap {
	s := cpuSnap{at: time.Now()}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		if len(f) >= 9 && f[0] == "cpu" {
			// user nice system idle iowait irq softirq steal: all but
			// idle and iowait are busy.
			for i, v := range f[1:9] {
				if i == 3 || i == 4 {
					continue
				}
				n, _ := strconv.ParseFloat(v, 64)
				s.machine += n / userHZ
			}
			s.ok = true
		}
	}
	if pid > 0 {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			// Fields after the command name "(…)": state is the first,
			// utime the 12th and stime the 13th.
			if i := strings.LastIndexByte(string(b), ')'); i > 0 {
				f := strings.Fields(string(b[i+1:]))
				if len(f) > 12 {
					u, _ := strconv.ParseFloat(f[11], 64)
					st, _ := strconv.ParseFloat(f[12], 64)
					s.server = (u + st) / userHZ
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.own = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return s
}

// cpuUse is the CPU used over a phase, in percent of one core.
type cpuUse struct {
	Machine, Server, Tool float64
	OK                    bool
}

// Other is what neither the server nor this tool used: other processes
// (a database server, anything else running on the machine).
func (u cpuUse) Other() float64 { return max(u.Machine-u.Server-u.Tool, 0) }

func cpuBetween(a, b cpuSnap) cpuUse {
	sec := b.at.Sub(a.at).Seconds()
	if !a.ok || !b.ok || sec <= 0 {
		return cpuUse{}
	}
	return cpuUse{
		Machine: 100 * (b.machine - a.machine) / sec,
		Server:  100 * (b.server - a.server) / sec,
		Tool:    100 * (b.own - a.own) / sec,
		OK:      true,
	}
}
