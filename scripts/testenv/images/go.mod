// The small programs inside the test clusters' locally built images (standard library only):
// the pod sandbox's pause process, and the launcher that the mca image runs as "mca".
module mca.local/testenv/images

go 1.24.0
