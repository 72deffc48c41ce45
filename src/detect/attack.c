/* attack.c: ids and names of the ATT&CK techniques (attack.h). */
#include "detect/attack.h"

#include <stddef.h>

static const struct {
    const char *id, *name;
} techniques[ATTACK_COUNT] = {
    [ATTACK_T1046] = {"T1046", "Network Service Discovery"},
    [ATTACK_T1498] = {"T1498", "Network Denial of Service"},
    [ATTACK_T1498_002] = {"T1498.002", "Network Denial of Service: Reflection Amplification"},
    [ATTACK_T1499_002] = {"T1499.002", "Endpoint Denial of Service: Service Exhaustion Flood"},
    [ATTACK_T1499_004] = {"T1499.004",
                          "Endpoint Denial of Service: Application or System Exploitation"},
    [ATTACK_T1568_002] = {"T1568.002", "Dynamic Resolution: Domain Generation Algorithms"},
};

const char *attack_technique_id(unsigned a)
{
    return a < ATTACK_COUNT ? techniques[a].id : NULL;
}

const char *attack_technique_name(unsigned a)
{
    return a < ATTACK_COUNT ? techniques[a].name : NULL;
}
