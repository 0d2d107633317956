// Child processes of the launcher: started with their output appended to a
// log file, stopped with SIGTERM then SIGKILL, and reported when they exit on
// their own.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// stopGrace is how long a child gets between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

// process is one running child (etcd or kube-apiserver).
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	// done is closed once the child has exited; err is its Wait result.
	done chan struct{}
	err  error
	// stopping is set before the launcher stops the child on purpose, so
	// that its exit is not reported as a crash.
	stopping atomic.Bool
}

// startProcess starts binary with args, appending its stdout and stderr to
// logPath. exited receives the process when it exits without being stopped.
func startProcess(name, binary string, args []string, logPath string, exited chan<- *process) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logFile, "==== %s starting at %s: %s %s\n", name, time.Now().Format(time.RFC3339), binary, strings.Join(args, " "))
	cmd := exec.Command(binary, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a Ctrl-C on the terminal reaches only the
		// launcher, which then stops the children in order.
		Setpgid: true,
		// Should the launcher be killed outright, the children follow.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, binary, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
		if !p.stopping.Load() {
			exited <- p
		}
	}()
	return p, nil
}

// exitedEarly reports whether the child has already exited.
func (p *process) exitedEarly() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to stopGrace, then SIGKILLs and waits.
func (p *process) stop() {
	p.stopping.Store(true)
	if p.exitedEarly() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// logTail returns the last lines of the child's log, for error reports.
func (p *process) logTail(lines int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.logPath, err)
	}
	all := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return string(bytes.Join(all, []byte("\n")))
}
