package main

import "errors"

type store struct{ m map[string]int }

func (s *store) get(k string) int { return s.m[k] }

func main() {
	var s *store
	_ = errors.New("x")
	s.get("a")
}
