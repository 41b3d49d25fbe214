package main

import "fmt"

func lookup(xs []int, i int) int { return xs[i] }

func main() {
	fmt.Println("starting")
	go func() { select {} }()
	xs := []int{1, 2, 3}
	fmt.Println(lookup(xs, 5))
}
