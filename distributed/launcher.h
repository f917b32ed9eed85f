#pragma once
// What the MPI launcher (mpirun, srun, mpiexec) told this process through its environment, read
// before MPI is started: whether to start it at all, and the rank's place on its node.
#include <optional>

namespace gau::distributed {

// The number of ranks the launcher started: OMPI_COMM_WORLD_SIZE (Open MPI's mpirun), PMI_SIZE
// (MPICH's and Intel MPI's mpiexec, srun --mpi=pmi2), SLURM_STEP_NUM_TASKS (srun). nullopt when
// none is set: the process was started by hand, a world of one.
std::optional<int> launcher_world_size();

// This process's rank in the launched world: OMPI_COMM_WORLD_RANK, PMI_RANK or SLURM_PROCID.
// nullopt when none is set.
std::optional<int> launcher_rank();

// The rank among this node's processes: OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID (MPICH's
// hydra) or SLURM_LOCALID. nullopt when none is set.
std::optional<int> launcher_local_rank();

}  // namespace gau::distributed
