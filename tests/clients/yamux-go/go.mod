module mca.local/tests/yamuxgo

go 1.24.0

require github.com/hashicorp/yamux v0.1.2
