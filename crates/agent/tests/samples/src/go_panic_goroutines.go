package main

import (
	"fmt"
	"sync"
	"time"
)

type order struct{ id int }

func worker(wg *sync.WaitGroup, jobs <-chan order) {
	defer wg.Done()
	for o := range jobs {
		if o.id == 3 {
			panic(fmt.Sprintf("order %d: inventory went negative", o.id))
		}
	}
}

func main() {
	jobs := make(chan order)
	var wg sync.WaitGroup
	wg.Add(2)
	go worker(&wg, jobs)
	go func() { time.Sleep(time.Hour) }()
	for i := 1; i <= 5; i++ {
		jobs <- order{i}
	}
	close(jobs)
	wg.Wait()
}
