/* main.c: nettriage's entry point (the subcommands are being built). */
#include <stdio.h>

int main(void)
{
    fputs("nettriage: under construction\n", stderr);
    return 2;
}
