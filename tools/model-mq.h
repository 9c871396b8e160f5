/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TOOLS_MODEL_MQ_H
#define VS_TOOLS_MODEL_MQ_H

/* virtsync model --queues N ...: shared polling cores; the exit status. */
int model_queues(int argc, char **argv);

#endif
