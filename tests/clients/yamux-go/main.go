// A peer built on github.com/hashicorp/yamux, to prove mca's yamux is wire compatible.
//
//	yamux-go server           listen on 127.0.0.1:0, print "listening PORT", echo every stream
//	yamux-go client ADDR N S  open N streams at once, send S random bytes on each, check the echo
package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/hashicorp/yamux"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: yamux-go server | client ADDR N SIZE")
	}
	switch os.Args[1] {
	case "server":
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		check(err)
		fmt.Printf("listening %d\n", listener.Addr().(*net.TCPAddr).Port)
		for {
			conn, err := listener.Accept()
			check(err)
			go serve(conn)
		}
	case "client":
		n, _ := strconv.Atoi(os.Args[3])
		size, _ := strconv.Atoi(os.Args[4])
		conn, err := net.Dial("tcp", os.Args[2])
		check(err)
		session, err := yamux.Client(conn, nil)
		check(err)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- echoOnce(session, size)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			check(err)
		}
		if _, err := session.Ping(); err != nil {
			fail("ping: " + err.Error())
		}
		fmt.Println("ok")
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func serve(conn net.Conn) {
	session, err := yamux.Server(conn, nil)
	if err != nil {
		return
	}
	for {
		stream, err := session.Accept()
		if err != nil {
			return
		}
		go func() {
			io.Copy(stream, stream)
			stream.Close()
		}()
	}
}

func echoOnce(session *yamux.Session, size int) error {
	stream, err := session.OpenStream()
	if err != nil {
		return err
	}
	payload := make([]byte, size)
	rand.Read(payload)
	go func() {
		stream.Write(payload)
		// In hashicorp/yamux, Close is a half-close (FIN): the echo can still be read.
		stream.Close()
	}()
	echoed, err := io.ReadAll(stream)
	if err != nil {
		return err
	}
	if !bytes.Equal(echoed, payload) {
		return fmt.Errorf("echo mismatch: sent %d bytes, got %d", len(payload), len(echoed))
	}
	return nil
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, message)
	os.Exit(1)
}
