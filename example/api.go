package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (a *app) me(c echo.Context) error    { return c.NoContent(http.StatusNotImplemented) }
func (a *app) write(c echo.Context) error { return c.NoContent(http.StatusNotImplemented) }
