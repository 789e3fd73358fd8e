module github.com/fentaweb/sdk-go

go 1.19
